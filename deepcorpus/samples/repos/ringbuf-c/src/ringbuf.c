#include "ringbuf.h"

void ringbuf_init(ringbuf_t *rb) {
    rb->head = 0;
    rb->tail = 0;
}

size_t ringbuf_size(const ringbuf_t *rb) {
    return rb->head - rb->tail;
}

int ringbuf_push(ringbuf_t *rb, int value) {
    if (ringbuf_size(rb) == RINGBUF_CAPACITY) {
        return -1; /* full: the caller decides whether to drop or wait */
    }
    rb->items[rb->head & RINGBUF_MASK] = value;
    rb->head++;
    return 0;
}

int ringbuf_pop(ringbuf_t *rb, int *out) {
    if (ringbuf_size(rb) == 0) {
        return -1;
    }
    *out = rb->items[rb->tail & RINGBUF_MASK];
    rb->tail++;
    return 0;
}
