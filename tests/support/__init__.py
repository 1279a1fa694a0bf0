"""Test support: real servers (HTTP, PostgreSQL) started by the tests themselves."""
