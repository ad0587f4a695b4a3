#include <stdio.h>
#include "../include/ringbuf.h"

int main(void) {
    ringbuf_t rb;
    int value;
    ringbuf_init(&rb);
    for (int i = 0; i < 5; i++) {
        ringbuf_push(&rb, i * i);
    }
    while (ringbuf_pop(&rb, &value) == 0) {
        printf("popped %d\n", value);
    }
    return 0;
}
