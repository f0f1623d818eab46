# Sourced by the test scripts that need a system package. `need CHECK PACKAGE` returns at once
# when CHECK passes — a tool name found on PATH, or a command line (anything with a space)
# that succeeds — and otherwise installs PACKAGE through apt-get when running as root, or
# says what is missing and exits 1.
need() {
    local check=$1 package=$2 script
    script=$(basename "$0")
    if [[ $check == *" "* ]]; then
        eval "$check" > /dev/null 2>&1 && return
    else
        command -v "$check" > /dev/null && return
    fi
    if [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null; then
        echo "$script: installing $package" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >&2
    else
        echo "$script: $check is missing; install $package" >&2
        exit 1
    fi
}
