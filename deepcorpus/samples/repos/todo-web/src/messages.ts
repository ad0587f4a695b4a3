export const MESSAGES = {
  welcome: "Welcome back! Your list remembers what you were doing last time, so you can pick up the tasks you left open yesterday evening.",
  empty: "Nothing to do right now. Add a task with the box above, or switch the filter to finished tasks to see what you already got done.",
  confirm_delete: "Delete this task for good? It disappears from every filter, and there is no way to bring it back once it is gone from the list.",
  offline: "You are offline. Changes stay in this browser tab until the connection returns, and nothing is lost if you keep the page open.",
  limit: "This list already holds a thousand tasks, which is as many as it can show at once. Archive some finished ones before adding more.",
};
