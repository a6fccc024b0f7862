//! Integration tests of the simulated servers.
