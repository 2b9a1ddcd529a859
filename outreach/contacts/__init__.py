"""Field logging: contacts inside an open shift."""
