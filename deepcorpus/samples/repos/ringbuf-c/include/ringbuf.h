#ifndef RINGBUF_H
#define RINGBUF_H

#include <stddef.h>
#include "config.h"

typedef struct {
    int items[RINGBUF_CAPACITY];
    size_t head;
    size_t tail;
} ringbuf_t;

void ringbuf_init(ringbuf_t *rb);
int ringbuf_push(ringbuf_t *rb, int value);
int ringbuf_pop(ringbuf_t *rb, int *out);
size_t ringbuf_size(const ringbuf_t *rb);

#endif
