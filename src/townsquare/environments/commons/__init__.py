"""A shared renewable resource (GovSim): survive or collapse."""
