"""Every write that changes an item's state or place. See the modules of this package."""
