"""The project's own shared package: what every service uses, each piece once."""
