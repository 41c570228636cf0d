//! Support for the end-to-end tests: finding the binary, fixtures and peer tools.
