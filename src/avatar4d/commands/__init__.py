"""One dataclass per subcommand: its options (parsed by tyro) and a run() method."""
