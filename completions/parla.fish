complete --keep-order --exclusive --command parla --arguments "(COMPLETE=fish parla -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token))"
