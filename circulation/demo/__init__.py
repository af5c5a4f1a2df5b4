"""The Sui County demo behind `manage.py seed_demo`: places, a catalogue, readers and a
simulated year of circulation, written in bulk. See seed.py for the entry point."""
