import { createRouter } from "../../lib/router";
import * as cancelJob from "./cancel-job";
import * as createJob from "./create-job";
import * as getJob from "./get-job";
import * as listJobs from "./list-jobs";

export const jobsRoutes = createRouter()
  .openapi(createJob.route, createJob.handler)
  .openapi(listJobs.route, listJobs.handler)
  .openapi(getJob.route, getJob.handler)
  .openapi(cancelJob.route, cancelJob.handler);
