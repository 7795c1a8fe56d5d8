# Sourced by bin/run and bin/test: find Python 3.11, create .venv, install a requirements file once
# per change of its content (a stamp inside .venv), and activate it.
find_python() {
    for candidate in "${PYTHON:-}" python3.11 python3 python; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "Python 3.11 is required (set PYTHON=/path/to/python3.11)." >&2
    return 1
}

ensure_venv() {  # $1 = requirements file
    local requirements="$1" stamp
    if [ ! -x .venv/bin/python ]; then
        echo "==> Creating the virtual environment .venv"
        "$(find_python)" -m venv .venv
    fi
    # shellcheck disable=SC1091
    . .venv/bin/activate
    stamp=".venv/.installed-$(basename "$requirements")"
    if [ ! -f "$stamp" ] || ! cat requirements*.txt | cmp -s - "$stamp"; then
        echo "==> Installing the Python packages of $requirements (first start: a few minutes)…"
        python -m pip install --quiet --upgrade pip
        python -m pip install --quiet -r "$requirements"
        echo "    Packages installed."
        cat requirements*.txt > "$stamp"
    fi
}
