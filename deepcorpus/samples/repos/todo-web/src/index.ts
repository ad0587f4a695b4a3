import { TodoStore } from "./store";
import type { Filter } from "./model";
const { renderList } = require("./render.js");

const store = new TodoStore();
let filter: Filter = "all";

store.subscribe(() => renderList(document.getElementById("list"), store.visible(filter)));
store.add("write the sample repositories");
store.add("run the code pipeline");
