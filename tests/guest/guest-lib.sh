# Shared by build-guest.sh and build-vrtd-guest.sh (sourced, not run): both
# hash this file into their cache keys, so editing it rebuilds both guests.

# add_module NAME DIR: copies kernel module NAME.ko from $moddir (the
# unpacked kernel package $kpkg) into DIR, its dependencies first (read from
# each module's .modinfo "depends=" field, since the package ships no
# modules.dep), and appends NAME to $ordered, the load order. `local` (dash,
# busybox ash and bash all have it) keeps the recursion from clobbering the
# caller's variables.
add_module() {
    local f deps d
    case " $ordered " in *" $1 "*) return 0 ;; esac
    f=$(find "$moddir" -name "$1.ko" | head -n1)
    if [ -z "$f" ]; then
        echo "$(basename "$0"): module $1 not found in $kpkg" >&2
        exit 1
    fi
    deps=$(grep -a -o 'depends=[^[:cntrl:]]*' "$f" | head -n1 | sed 's/^depends=//; s/,/ /g')
    for d in $deps; do add_module "$d" "$2"; done
    cp "$f" "$2/$1.ko"
    ordered="$ordered $1"
}
