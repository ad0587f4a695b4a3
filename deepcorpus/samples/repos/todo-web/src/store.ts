import { Todo, Filter, matches } from "./model";

// Keeps the todos in memory and tells listeners when they change.
export class TodoStore {
  private todos: Todo[] = [];
  private nextId = 1;
  private listeners: Array<() => void> = [];

  add(title: string): Todo {
    const todo = { id: this.nextId++, title, done: false };
    this.todos.push(todo);
    this.emit();
    return todo;
  }

  toggle(id: number): void {
    const todo = this.todos.find((t) => t.id === id);
    if (todo) {
      todo.done = !todo.done;
      this.emit();
    }
  }

  visible(filter: Filter): Todo[] {
    return this.todos.filter((t) => matches(t, filter));
  }

  subscribe(listener: () => void): void {
    this.listeners.push(listener);
  }

  private emit(): void {
    this.listeners.forEach((l) => l());
  }
}
