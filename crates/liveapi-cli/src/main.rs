//! The `liveapi` command-line tool (being built).

fn main() {
    eprintln!("liveapi: no commands yet");
    std::process::exit(2);
}
