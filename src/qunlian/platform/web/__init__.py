"""The web kit every capability's routes use: request dependencies, rendering, security, settings."""
