//! Examples of the WSO2 federation crates; see the `examples/` folder. Each reads the server
//! it talks to from environment variables and never embeds a password.

/// Reads a required environment variable, with a clear message when it is missing.
pub fn env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .map_err(|_| format!("set {name} (see the example's header for every variable)"))
}

/// Reads an optional environment variable.
pub fn env_opt(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
