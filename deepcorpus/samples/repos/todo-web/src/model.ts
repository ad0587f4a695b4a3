// The data model: a todo item and the filters a list can show.
export interface Todo {
  id: number;
  title: string;
  done: boolean;
}

export type Filter = "all" | "open" | "done";

export function matches(todo: Todo, filter: Filter): boolean {
  if (filter === "all") return true;
  return filter === "done" ? todo.done : !todo.done;
}
