#!/usr/bin/env bats
# Packaging: make install and uninstall, the man pages, and the options
# that --help, the man page and the shell completions list.
#
# The Makefile exports SFSINK_SRCDIR and SFSINK_BUILDDIR, which differ in a
# VPATH build such as make distcheck's.

load helpers

: "${SFSINK_SRCDIR:?run the tests through make check}"
: "${SFSINK_BUILDDIR:?run the tests through make check}"

PREFIX=/usr/local

# The files make install puts under DESTDIR, relative to it.
INSTALLED_FILES="
usr/local/bin/sfsink
usr/local/share/man/man1/sfsink.1
usr/local/share/bash-completion/completions/sfsink
usr/local/share/zsh/site-functions/_sfsink
usr/local/share/fish/vendor_completions.d/sfsink.fish
"

# build_make TARGET...: run make in the build directory, outside of the
# make that runs the tests.
build_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    make -s -C "$SFSINK_BUILDDIR" prefix="$PREFIX" "$@"
}

# Every file and symbolic link under DIR, relative to it, sorted.
list_files() {
	(cd "$1" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)
}

# Options of the sorted unique list given on stdin, one per line, joined.
joined() {
	sort -u | tr '\n' ' '
}

# Options in the option column of sfsink --help ("  -c, --config FILE   text").
help_options() {
	"$SFSINK" --help | sed -n '/^options:/,/^$/p' |
	    sed -n 's/^ *\(-[^ ].*\)$/\1/p' | sed 's/   .*//' |
	    grep -oE '(^|[ ,])--?[A-Za-z][A-Za-z0-9-]*' | tr -d ' ,' | joined
}

# Options of the man page: the .It Fl entries of the options list, which
# follows "The options are as follows:" or opens an OPTIONS section.
man_options() {
	awk '
	/^\.Sh OPTIONS/ || /^The options are as follows:/ { on = 1; next }
	on && /^\.Bl/ { depth++; next }
	on && /^\.El/ { if (--depth == 0) exit; next }
	on && depth == 1 && /^\.It Fl / {
		n = split($0, w, " ")
		for (i = 1; i < n; i++)
			if (w[i] == "Fl") {
				opt = w[i + 1]
				gsub(/\\/, "", opt)
				print "-" opt
			}
	}' "$SFSINK_SRCDIR/man/sfsink.1" | joined
}

bash_options() {
	perl -0ne 'print "$1\n" while /compgen -W \x27([^\x27]*)\x27/g' \
	    "$SFSINK_SRCDIR/completions/sfsink" |
	    grep -oE '(^|[[:space:]])--?[A-Za-z][A-Za-z0-9-]*' | tr -d ' \t' | joined
}

# zsh: the option names before the description bracket of each _arguments spec.
zsh_options() {
	grep -E "^ *'" "$SFSINK_SRCDIR/completions/_sfsink" | sed 's/\[.*//' |
	    grep -oE '(^|[^A-Za-z0-9-])--?[A-Za-z][A-Za-z0-9-]*' |
	    sed 's/^[^-]*//' | joined
}

fish_options() {
	grep -oE -- ' -(s|l) [A-Za-z0-9-]+' "$SFSINK_SRCDIR/completions/sfsink.fish" |
	    awk '{ print ($1 == "-s" ? "-" : "--") $2 }' | joined
}

@test "install puts files in standard places" {
	dest="$BATS_TEST_TMPDIR/dest"
	build_make install DESTDIR="$dest"
	for f in $INSTALLED_FILES; do
		[ -f "$dest/$f" ] || { echo "not installed: $f"; false; }
	done
	[ -x "$dest/usr/local/bin/sfsink" ]
	run "$dest/usr/local/bin/sfsink" --version
	[ "$status" -eq 0 ]
	[[ "$output" == "sfsink "* ]]
	# Nothing lands outside the binary, man page and completion directories.
	unexpected=$(list_files "$dest" | grep -vE '^usr/local/(bin/sfsink|share/man/man[1-9]/[^/]+\.[1-9]|share/bash-completion/completions/sfsink|share/zsh/site-functions/_sfsink|share/fish/vendor_completions.d/sfsink\.fish)$' || true)
	[ -z "$unexpected" ] || { echo "unexpected: $unexpected"; false; }
	# The installed man pages and completions are the ones in the source tree.
	cmp "$dest/usr/local/share/man/man1/sfsink.1" "$SFSINK_SRCDIR/man/sfsink.1"
	cmp "$dest/usr/local/share/zsh/site-functions/_sfsink" "$SFSINK_SRCDIR/completions/_sfsink"
}

@test "uninstall removes every installed file" {
	dest="$BATS_TEST_TMPDIR/dest"
	build_make install DESTDIR="$dest"
	[ -n "$(list_files "$dest")" ]
	build_make uninstall DESTDIR="$dest"
	left=$(list_files "$dest")
	[ -z "$left" ] || { echo "left after uninstall: $left"; false; }
}

@test "man pages pass mandoc lint" {
	command -v mandoc >/dev/null 2>&1 || skip "mandoc is not installed (apt-get install mandoc)"
	for page in "$SFSINK_SRCDIR"/man/*.[1-9]; do
		# Warnings and errors set the exit status.
		run mandoc -Tlint -W warning "$page"
		[ "$status" -eq 0 ] || { echo "$page: $output"; false; }
		# Style messages count too, except those about this machine's
		# manual database and the pages installed on it.
		run mandoc -Tlint -W style "$page"
		style=$(grep -vE 'mandoc\.db|referenced manual not found' <<<"$output" || true)
		[ -z "$style" ] || { echo "$style"; false; }
	done
}

@test "help and man page list the same options" {
	help=$(help_options)
	man=$(man_options)
	echo "help: $help"
	echo "man:  $man"
	[[ " $help" == *" -c "* ]]
	[[ "$help" == *" --config "* ]]
	[ "$help" = "$man" ]
}

@test "completions list the options of help" {
	help=$(help_options)
	echo "help: $help"
	echo "bash: $(bash_options)"
	echo "zsh:  $(zsh_options)"
	echo "fish: $(fish_options)"
	[[ " $help" == *" -c "* ]]
	[[ "$help" == *" --config "* ]]
	[ "$(bash_options)" = "$help" ]
	[ "$(zsh_options)" = "$help" ]
	[ "$(fish_options)" = "$help" ]
}
