"""Uploads one good camera snapshot to Prusa Connect every interval, whatever the network does."""
