"""Stria tracker: private progress photos and ratings for microneedling of stretch marks."""

__version__ = "0.1.0"
APP_NAME = "Stria Tracker"
