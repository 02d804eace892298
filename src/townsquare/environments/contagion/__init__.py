"""The classic diffusion and opinion models (cascades, thresholds, SIR, rumours, voter,
Deffuant) as an environment whose agents follow fixed rules."""
