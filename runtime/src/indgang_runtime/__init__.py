"""The small runtime every indgang service shares (no domain code lives here)."""
