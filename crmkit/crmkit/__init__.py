"""Plumbing shared by the CRM services: the wire protocol, never domain code."""
