// Renders todos as list items; kept in plain JavaScript to show mixed JS/TS imports.
function renderList(element, todos) {
  element.innerHTML = "";
  for (const todo of todos) {
    const item = document.createElement("li");
    item.textContent = todo.title;
    item.className = todo.done ? "done" : "open";
    element.appendChild(item);
  }
}

module.exports = { renderList };
