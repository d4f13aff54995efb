"""The window's panels: one file each (B-field scan, rf scan, laser lock, batch, results, data
browser, instruments, log)."""
