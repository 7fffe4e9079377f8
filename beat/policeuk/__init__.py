"""Adapters for data.police.uk: its HTTP API and folders laid out like it."""
