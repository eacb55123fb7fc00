//! The `usergroups` binary: see [`usergroups::cli`].

fn main() -> std::process::ExitCode {
    usergroups::cli::main()
}
