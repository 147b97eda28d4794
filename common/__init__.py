"""What every model of the zoo shares: data, the frozen discriminator, training
plumbing (compiled steps, sample grids, saved models, progress) and the CLI."""
