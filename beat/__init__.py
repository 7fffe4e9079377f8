"""Beat: neighbourhood policing updates, moderated and published to the area's residents."""

__version__ = "0.1.0"
