import { createRouter } from "../router.ts";
import * as cancelJob from "./cancel.ts";
import * as createJob from "./create.ts";
import * as getJob from "./get.ts";
import * as listJobs from "./list.ts";

export const jobsRoutes = createRouter()
  .openapi(createJob.route, createJob.handler)
  .openapi(listJobs.route, listJobs.handler)
  .openapi(getJob.route, getJob.handler)
  .openapi(cancelJob.route, cancelJob.handler);
