//! The device host of an isolated CUDA runtime (see `ringkernel::isolated`): connects to the
//! Unix socket named by its one argument and serves the runtime that started it.

use std::os::unix::net::UnixStream;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: ringkernel-device-host SOCKET (started by a ringkernel runtime)");
        return ExitCode::FAILURE;
    };
    let stream = match UnixStream::connect(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ringkernel-device-host: cannot connect to {path:?}: {e}");
            return ExitCode::FAILURE;
        }
    };
    match ringkernel::isolated::serve(stream) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ringkernel-device-host: {e}");
            ExitCode::FAILURE
        }
    }
}
