/*
 * Unit tests of the x86 CPU driver: a placeholder filled below.
 */
#include "conf/cpu/cpu_x86.h"

int
main(void)
{
    return 0;
}
