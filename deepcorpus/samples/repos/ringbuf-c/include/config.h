#ifndef RINGBUF_CONFIG_H
#define RINGBUF_CONFIG_H

/* Capacity of every ring buffer, in elements; a power of two so that wrapping is a mask. */
#define RINGBUF_CAPACITY 64
#define RINGBUF_MASK (RINGBUF_CAPACITY - 1)

#endif
