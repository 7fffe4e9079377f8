"""Social channel adapters (X, Mastodon, Bluesky), one module per platform."""
