//! `layercam`: thin entry point. Parses the command line, runs the command, maps errors to
//! a one-line message and an exit code (0 normal end, 1 error, 2 usage, 130 interrupted).

mod app;
mod cli;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let result = match &cli.command {
        Some(cli::Command::Analyze(a)) => app::analyze(a),
        Some(cli::Command::Live(a)) => app::live(a),
        Some(cli::Command::Replay(a)) => app::replay(a),
        Some(cli::Command::Record(a)) => app::record(a),
        Some(cli::Command::Cameras) => app::cameras(),
        None => app::default_run(&cli.stream),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            app::EXIT_ERROR
        }
    };
    std::process::exit(code);
}

/// The error and its causes on one line, leaving out causes the message already states.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}
