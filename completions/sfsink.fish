# fish completion for sfsink(1).  The options match `sfsink --help`; keep
# the two in step.

# -c offers directories and *.yaml or *.yml files, as the bash completion does.
complete -c sfsink -s c -l config -x -d 'YAML configuration (required)' \
    -a '(__fish_complete_path (commandline -ct | string replace -r -- "^--config=" "") | string match -r -- "^.*(?:/|\.ya?ml)(?:\t.*)?\$")'
complete -c sfsink -s o -l output -r -F -d 'Write result lines to FILE instead of stdout'
complete -c sfsink -s v -l verbose -d 'More messages on stderr; repeat for more'
complete -c sfsink -s q -l quiet -d 'Only errors on stderr, no summary'
complete -c sfsink -l check -d 'Check the mappings and field names against the org; send nothing'
complete -c sfsink -l dry-run -x -a '(__fish_complete_directories (commandline -ct | string replace -r -- "^--dry-run=" ""))' -d 'Write every request to DIR instead of sending it'
complete -c sfsink -l rejects -r -F -d 'Copy the input line of every record that is not ok to FILE'
complete -c sfsink -l progress -d 'Draw the status line even when stderr is not a terminal'
complete -c sfsink -l no-progress -d 'Never draw the status line'
complete -c sfsink -l journal -r -F -d 'Append each bulk job to FILE before closing it, for --resume'
complete -c sfsink -l resume -r -F -d 'Collect the results of the open bulk jobs of JOURNAL; reads no input'
complete -c sfsink -l shutdown-wait -x -a '0s 30s 60s 5m 1h' -d 'After SIGINT or SIGTERM, wait this long for closed bulk jobs (default 60s)'
complete -c sfsink -l bulk-wait -x -a '1h 6h 24h' -d 'Stop polling a bulk job this long after its close (default 24h)'
complete -c sfsink -s h -l help -d 'Print the help and exit'
complete -c sfsink -s V -l version -d 'Print the version and exit'
