"""Peer implementations (NDlib runner, Mesa 3 models) for the benchmarks in bench/."""
