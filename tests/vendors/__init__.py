"""Tests of the vendor registry, with a test-only third vendor (``acme``) that plugs in from outside the package."""
