"""The appliance's benchmarks: `bench/run` measures the frame server, nginx and the stack beside their ceilings."""
