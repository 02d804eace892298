"""An election campaign on the social platform, with opinion polls (ElectionSim)."""
