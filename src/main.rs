//! The `coldscan` command: a thin layer over the library.

fn main() {
    std::process::exit(coldscan::cli::run());
}
