"""The support center's public-market program: briefings and training, cooperation, yearly targets."""
