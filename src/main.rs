//! `layercam`: thin entry point. Parses the command line, runs the command, maps errors to
//! a one-line message and an exit code (0 normal end, 1 error, 2 usage, 130 interrupted).

mod app;
mod cli;
mod progress;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse_from(cli::lines_flag_alone(std::env::args_os()));
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
        // `layercam … | head`: the reader has what it wanted (every thread is joined by now)
        Err(e) if app::is_broken_pipe(&e) => app::EXIT_OK,
        Err(e) => {
            eprintln!("error: {}", app::error_line(&e));
            app::EXIT_ERROR
        }
    };
    ExitCode::from(code)
}
