"""Each role's home at `/`: what waits for the signed-in user today, read through the other domains' services."""
