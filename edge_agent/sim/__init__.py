"""The simulated premises: the same backend interfaces as the hardware, driven by a seeded timeline."""
