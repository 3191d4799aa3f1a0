/* placeholder until the CLI lands */
#include <stdio.h>
int main(void) { puts("enhance: under construction"); return 0; }
