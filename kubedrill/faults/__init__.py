"""What breaks things: pods, containers, nodes, volumes, Chaos Toolkit experiments. Every fault is
guarded, written to the journal before it acts, and returns a frozen record of what it did."""
