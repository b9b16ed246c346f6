"""The front desk's window (issue 21): clients and appointments, for a front-desk login."""
