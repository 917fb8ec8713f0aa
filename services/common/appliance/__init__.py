"""Plumbing every service of the appliance shares: environment parsing and logging."""
